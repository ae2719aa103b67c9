# Alerting and monitoring: heat alerts and alarms go to one topic with an email
# subscription (it stays "pending confirmation" until someone clicks the link).

resource "aws_sns_topic" "alerts" {
  name         = "${local.prefix}-alerts"
  display_name = "Campus sensors (${var.env})"
}

resource "aws_sns_topic_subscription" "ops_email" {
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

# The "device stopped publishing" alarm: messages matched by the ingest rule below the
# baseline for 10 minutes (two 5-minute periods). No data at all also counts as silence.
resource "aws_cloudwatch_metric_alarm" "fleet_silent" {
  alarm_name          = "${local.prefix}-fleet-silent"
  alarm_description   = "Fewer than ${var.baseline_messages_per_5min} readings per 5 minutes for 10 minutes"
  namespace           = "AWS/IoT"
  metric_name         = "TopicMatch"
  dimensions          = { RuleName = aws_iot_topic_rule.ingest.name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.baseline_messages_per_5min
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "ingest_errors" {
  alarm_name          = "${local.prefix}-ingest-errors"
  alarm_description   = "The ingest Lambda failed"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.ingest.function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
}
