# The campus stack without IoT, DynamoDB and the Lambda function: what LocalStack
# Community can host offline (S3, SNS, IAM, CloudWatch, Logs). The raw archive, alerting,
# monitoring and the ingest role; the full stack is stacks/campus, tested against moto.

variable "env" {
  type    = string
  default = "dev"
  validation {
    condition     = contains(["dev", "staging", "prod"], var.env)
    error_message = "env must be dev, staging or prod."
  }
}

variable "alert_email" {
  type    = string
  default = "ops@example.com"
}

provider "aws" {
  default_tags {
    tags = {
      project = "campus-sensors"
      env     = var.env
    }
  }
}

locals {
  prefix = "${var.env}-campus"
}

data "aws_caller_identity" "me" {}

resource "aws_s3_bucket" "archive" {
  bucket        = "${local.prefix}-archive-${data.aws_caller_identity.me.account_id}"
  force_destroy = true
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
    id     = "raw-tiering"
    status = "Enabled"
    filter {
      prefix = "raw/"
    }
    transition {
      days          = 0
      storage_class = "INTELLIGENT_TIERING"
    }
    expiration {
      days = 365
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }
}

resource "aws_sns_topic" "alerts" {
  name         = "${local.prefix}-alerts"
  display_name = "Campus sensors (${var.env})"
}

resource "aws_sns_topic_subscription" "ops_email" {
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

resource "aws_cloudwatch_log_group" "ingest" {
  name              = "/aws/lambda/${local.prefix}-ingest"
  retention_in_days = 30
}

resource "aws_iam_role" "ingest" {
  name = "${local.prefix}-ingest"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "ingest" {
  name = "logs"
  role = aws_iam_role.ingest.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "${aws_cloudwatch_log_group.ingest.arn}:*" }]
  })
}

# The ingest Lambda itself is in stacks/campus: LocalStack Community cannot run (or, once
# created offline, delete) a Lambda function without Docker, so this variant alarms on the
# function's metrics by name instead of managing the function.
resource "aws_cloudwatch_metric_alarm" "ingest_errors" {
  alarm_name          = "${local.prefix}-ingest-errors"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = "${local.prefix}-ingest" }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
}

output "bucket_name" {
  value = aws_s3_bucket.archive.bucket
}

output "alerts_topic_arn" {
  value = aws_sns_topic.alerts.arn
}
