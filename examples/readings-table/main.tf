# The smallest useful thingform stack: a DynamoDB table for sensor readings with a
# 90-day TTL, one table per device fleet, named from variables.
variable "fleet" {
  type    = string
  default = "greenhouse"
}

variable "env" {
  type    = string
  default = "dev"
}

resource "aws_dynamodb_table" "readings" {
  name         = "${var.env}-${var.fleet}-readings"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "device_id"
  range_key    = "ts"

  attribute {
    name = "device_id"
    type = "S"
  }
  attribute {
    name = "ts"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
}

output "table_arn" {
  value = aws_dynamodb_table.readings.arn
}
