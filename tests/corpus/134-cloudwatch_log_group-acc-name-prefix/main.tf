
resource "aws_cloudwatch_log_group" "test" {
  name_prefix = "tf-acc-test-prefix-"
}
