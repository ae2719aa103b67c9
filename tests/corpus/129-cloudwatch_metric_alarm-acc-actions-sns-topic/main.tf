
resource "aws_sns_topic" "test" {
  name = "tf-acc-test-129"
}

resource "aws_cloudwatch_metric_alarm" "test" {
  alarm_actions       = [aws_sns_topic.test.arn]
  alarm_description   = "Status checks have failed for system"
  alarm_name          = "tf-acc-test-129"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 2
  metric_name         = "StatusCheckFailed_System"
  namespace           = "AWS/EC2"
  period              = 60
  statistic           = "Minimum"
  threshold           = 0
  unit                = "Count"

  dimensions = {
    InstanceId = "i-abcd1234"
  }
}
