# Devices: one Thing, certificate and shadow per node, all sharing one least-privilege
# policy written with IoT policy variables (each device only as itself).

resource "aws_iot_thing_type" "sensor" {
  name = "${local.prefix}-TemperatureSensor"
  properties {
    description           = "Campus environment sensor (temperature, humidity, battery)"
    searchable_attributes = ["building", "location"]
  }
}

resource "aws_iot_thing" "node" {
  for_each        = var.nodes
  name            = "${local.prefix}-${each.key}"
  thing_type_name = aws_iot_thing_type.sensor.name
  attributes = {
    building = each.value.building
    location = each.value.location
  }
}

resource "aws_iot_thing_group" "campus" {
  name = "${local.prefix}-sensors"
  properties {
    description = "Every campus environment sensor (${var.env})"
  }
}

resource "aws_iot_thing_group_membership" "node" {
  for_each         = var.nodes
  thing_name       = aws_iot_thing.node[each.key].name
  thing_group_name = aws_iot_thing_group.campus.name
}

resource "aws_iot_certificate" "node" {
  for_each = var.nodes
  active   = true
}

resource "aws_iot_thing_principal_attachment" "node" {
  for_each  = var.nodes
  thing     = aws_iot_thing.node[each.key].name
  principal = aws_iot_certificate.node[each.key].arn
}

resource "aws_iot_policy_attachment" "node" {
  for_each = var.nodes
  policy   = aws_iot_policy.device.name
  target   = aws_iot_certificate.node[each.key].arn
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

resource "aws_iot_thing_shadow" "node" {
  for_each   = var.nodes
  thing_name = aws_iot_thing.node[each.key].name
  desired = jsonencode({
    reporting_interval_s = var.reporting_interval_s
    heat_alert_c         = var.heat_alert_c
  })
}
