
resource "aws_cloudwatch_metric_alarm" "test" {
  alarm_name = "tf-acc-test-131"

  evaluation_criteria {
    promql_criteria {
      query           = "histogram_quantile(0.99, CPUUtilization) > 0.5"
      pending_period  = 120
      recovery_period = 300
    }
  }

  evaluation_interval = 600
}
