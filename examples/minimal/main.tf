# The smallest IoT pipeline: one Thing publishing readings, one rule writing every
# message into a DynamoDB table (dynamodbv2: each JSON field becomes a column).

variable "name" {
  type    = string
  default = "greenhouse-1"
}

resource "aws_iot_thing" "sensor" {
  name = var.name
  attributes = {
    room = "greenhouse"
  }
}

resource "aws_dynamodb_table" "readings" {
  name         = "${var.name}-readings"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "device_id"
  range_key    = "ts"
  attribute {
    name = "device_id"
    type = "S"
  }
  attribute {
    name = "ts"
    type = "N"
  }
}

resource "aws_iam_role" "rule" {
  name = "${var.name}-rule"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "iot.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "rule" {
  name = "put-item"
  role = aws_iam_role.rule.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "dynamodb:PutItem", Resource = aws_dynamodb_table.readings.arn }]
  })
}

resource "aws_iot_topic_rule" "store" {
  name        = replace("${var.name}_store", "-", "_")
  enabled     = true
  sql         = "SELECT *, clientid() AS device_id, timestamp() AS ts FROM 'greenhouse/${var.name}/telemetry'"
  sql_version = "2016-03-23"
  dynamodbv2 {
    role_arn = aws_iam_role.rule.arn
    put_item {
      table_name = aws_dynamodb_table.readings.name
    }
  }
}

output "topic" {
  value = "greenhouse/${var.name}/telemetry"
}
