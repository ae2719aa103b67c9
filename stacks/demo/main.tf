# A small stack exercising the core resource types: storage and alerting for sensor data.
terraform {
  required_version = ">= 1.5"
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      managed_by = "thingform"
      env        = var.env
    }
  }
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "env" {
  type        = string
  default     = "dev"
  description = "Environment name; prefixes every AWS name"
  validation {
    condition     = contains(["dev", "staging", "prod"], var.env)
    error_message = "env must be dev, staging or prod."
  }
}

variable "alert_email" {
  type    = string
  default = "ops@example.com"
}

locals {
  prefix = "${var.env}-demo"
}

resource "aws_s3_bucket" "archive" {
  bucket        = "${local.prefix}-archive"
  force_destroy = true
  tags = {
    purpose = "raw sensor payloads"
  }
}

resource "aws_s3_bucket_versioning" "archive" {
  bucket = aws_s3_bucket.archive.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id

  rule {
    id     = "tiering"
    status = "Enabled"
    filter {
      prefix = "raw/"
    }
    transition {
      days          = 30
      storage_class = "INTELLIGENT_TIERING"
    }
    noncurrent_version_expiration {
      noncurrent_days = 60
    }
    expiration {
      days = 365
    }
  }
}

resource "aws_dynamodb_table" "readings" {
  name         = "${local.prefix}-readings"
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

  point_in_time_recovery {
    enabled = true
  }

  tags = {
    retention = "90d"
  }
}

resource "aws_sns_topic" "alerts" {
  name         = "${local.prefix}-alerts"
  display_name = "Campus sensor alerts"
}

resource "aws_sns_topic_subscription" "ops" {
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

output "bucket" {
  value = aws_s3_bucket.archive.bucket
}

output "table_name" {
  value = aws_dynamodb_table.readings.name
}

output "alerts_topic_arn" {
  value = aws_sns_topic.alerts.arn
}
