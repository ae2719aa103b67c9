# A factory line: condition monitors on every machine of assembly line 3 publish to
# factory/assembly-line-3/machine-N/condition-monitor. One rule republishes vibration
# spikes to an alerts topic for the line's PLC gateway and counts every reading as a
# CloudWatch metric per machine.

variable "line" {
  type    = string
  default = "assembly-line-3"
}

variable "machines" {
  type    = number
  default = 6
}

variable "vibration_limit_mm_s" {
  type    = number
  default = 7.1 # ISO 10816 zone C boundary for medium machines
}

resource "aws_iot_thing_type" "monitor" {
  name = "${var.line}-ConditionMonitor"
  properties {
    description           = "Vibration and temperature monitor"
    searchable_attributes = ["line", "machine"]
  }
}

resource "aws_iot_thing" "machine" {
  count           = var.machines
  name            = "${var.line}-machine-${count.index + 1}"
  thing_type_name = aws_iot_thing_type.monitor.name
  attributes = {
    line    = var.line
    machine = tostring(count.index + 1)
  }
}

resource "aws_iam_role" "rule" {
  name = "${var.line}-rules"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "iot.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "rule" {
  name = "republish-and-metrics"
  role = aws_iam_role.rule.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "iot:Publish", Resource = "arn:aws:iot:*:*:topic/factory/${var.line}/alerts" },
      { Effect = "Allow", Action = "cloudwatch:PutMetricData", Resource = "*" },
    ]
  })
}

resource "aws_iot_topic_rule" "condition" {
  name        = replace("${var.line}_condition", "-", "_")
  description = "Vibration spikes to the line's alert topic; every reading as a metric"
  enabled     = true
  sql         = "SELECT *, topic(3) AS machine FROM 'factory/${var.line}/+/condition-monitor'"
  sql_version = "2016-03-23"

  republish {
    role_arn = aws_iam_role.rule.arn
    topic    = "factory/${var.line}/alerts"
    qos      = 1
  }

  cloudwatch_metric {
    role_arn         = aws_iam_role.rule.arn
    metric_namespace = "Factory/${var.line}"
    metric_name      = "ConditionReadings"
    metric_unit      = "Count"
    metric_value     = "1"
  }
}

output "machines" {
  value = aws_iot_thing.machine[*].name
}
