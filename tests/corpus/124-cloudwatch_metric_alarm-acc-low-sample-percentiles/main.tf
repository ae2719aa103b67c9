
resource "aws_cloudwatch_metric_alarm" "test" {
  alarm_name                            = "tf-acc-test-124"
  comparison_operator                   = "GreaterThanOrEqualToThreshold"
  evaluation_periods                    = 2
  metric_name                           = "CPUUtilization"
  namespace                             = "AWS/EC2"
  period                                = 120
  extended_statistic                    = "p88.0"
  threshold                             = 80
  alarm_description                     = "This metric monitors ec2 cpu utilization"
  evaluate_low_sample_count_percentiles = "evaluate"
  insufficient_data_actions             = []

  dimensions = {
    InstanceId = "i-abcd1234"
  }
}
