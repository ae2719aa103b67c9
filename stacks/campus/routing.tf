# Routing: every reading goes to the ingest Lambda and the raw archive; hot readings
# also go to the alerts topic. Rule failures land in a log group.

resource "aws_iot_topic_rule" "ingest" {
  name        = "${local.rule_infix}_ingest"
  description = "Campus readings -> ingest Lambda and S3 archive"
  enabled     = true
  sql         = "SELECT *, topic(3) AS device_id, timestamp() AS ts FROM 'sensors/campus/+/environment'"
  sql_version = "2016-03-23"

  lambda {
    function_arn = aws_lambda_function.ingest.arn
  }

  s3 {
    bucket_name = aws_s3_bucket.archive.bucket
    key         = "raw/$${topic(3)}/$${parse_time(\"yyyy/MM/dd\", timestamp())}/$${timestamp()}.json"
    role_arn    = aws_iam_role.rule.arn
  }

  error_action {
    cloudwatch_logs {
      log_group_name = aws_cloudwatch_log_group.rule_errors.name
      role_arn       = aws_iam_role.rule.arn
    }
  }
}

resource "aws_iot_topic_rule" "heat_alert" {
  name        = "${local.rule_infix}_heat_alert"
  description = "Readings above ${var.heat_alert_c} C -> ops email"
  enabled     = true
  sql         = "SELECT *, topic(3) AS device_id FROM 'sensors/campus/+/environment' WHERE temp > ${var.heat_alert_c}"
  sql_version = "2016-03-23"

  sns {
    target_arn     = aws_sns_topic.alerts.arn
    role_arn       = aws_iam_role.rule.arn
    message_format = "JSON"
  }

  error_action {
    cloudwatch_logs {
      log_group_name = aws_cloudwatch_log_group.rule_errors.name
      role_arn       = aws_iam_role.rule.arn
    }
  }
}

resource "aws_cloudwatch_log_group" "rule_errors" {
  name              = "/${var.env}/campus/iot-rule-errors"
  retention_in_days = 30
}

# The role IoT assumes for the S3, SNS and CloudWatch Logs actions: exactly those calls
# on exactly these resources.
resource "aws_iam_role" "rule" {
  name               = "${local.prefix}-iot-rules"
  assume_role_policy = data.aws_iam_policy_document.iot_assume.json
}

data "aws_iam_policy_document" "iot_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["iot.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

data "aws_iam_policy_document" "rule_actions" {
  statement {
    sid       = "ArchiveRaw"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.archive.arn}/raw/*"]
  }
  statement {
    sid       = "HeatAlerts"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }
  statement {
    sid       = "RuleErrors"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.rule_errors.arn}:*"]
  }
}

resource "aws_iam_role_policy" "rule" {
  name   = "rule-actions"
  role   = aws_iam_role.rule.name
  policy = data.aws_iam_policy_document.rule_actions.json
}
