# Devices: one sensor-node module per node (Thing, certificate, shadow), all sharing one
# least-privilege policy written with IoT policy variables (each device only as itself).

resource "aws_iot_thing_type" "sensor" {
  name = "${local.prefix}-TemperatureSensor"
  properties {
    description           = "Campus environment sensor (temperature, humidity, battery)"
    searchable_attributes = ["building", "location"]
  }
}

resource "aws_iot_thing_group" "campus" {
  name = "${local.prefix}-sensors"
  properties {
    description = "Every campus environment sensor (${var.env})"
  }
}

# One sensor-node module per node: Thing, certificate, attachments, shadow.
module "sensor_node" {
  source   = "./modules/sensor-node"
  for_each = var.nodes

  name            = "${local.prefix}-${each.key}"
  thing_type_name = aws_iot_thing_type.sensor.name
  attributes = {
    building = each.value.building
    location = each.value.location
  }
  group_name  = aws_iot_thing_group.campus.name
  policy_name = aws_iot_policy.device.name
  desired = {
    reporting_interval_s = var.reporting_interval_s
    heat_alert_c         = var.heat_alert_c
  }
}

# A device may connect only with its own Thing name as client id (and only with a
# certificate attached to that Thing), publish only its own readings, and use only its
# own shadow topics.
resource "aws_iot_policy" "device" {
  name = "${local.prefix}-device"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Action    = "iot:Connect"
        Resource  = "${local.iot_arn}:client/$${iot:Connection.Thing.ThingName}"
        Condition = { Bool = { "iot:Connection.Thing.IsAttached" = "true" } }
      },
      {
        Effect = "Allow"
        Action = "iot:Publish"
        Resource = [
          "${local.iot_arn}:topic/sensors/campus/$${iot:Connection.Thing.ThingName}/environment",
          "${local.iot_arn}:topic/$aws/things/$${iot:Connection.Thing.ThingName}/shadow/*",
        ]
      },
      {
        Effect   = "Allow"
        Action   = "iot:Subscribe"
        Resource = "${local.iot_arn}:topicfilter/$aws/things/$${iot:Connection.Thing.ThingName}/shadow/*"
      },
      {
        Effect   = "Allow"
        Action   = "iot:Receive"
        Resource = "${local.iot_arn}:topic/$aws/things/$${iot:Connection.Thing.ThingName}/shadow/*"
      },
    ]
  })
}
