
resource "aws_cloudwatch_metric_alarm" "test" {
  alarm_name          = "tf-acc-test-126"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 30000
  treat_missing_data  = "breaching"

  metric_query {
    id          = "m1"
    expression  = "SELECT MAX(MillisBehindLatest) FROM SCHEMA(\"foo\", Operation, ShardId) WHERE Operation = 'ProcessTask'"
    period      = 60
    label       = "cat"
    return_data = true
  }
}
