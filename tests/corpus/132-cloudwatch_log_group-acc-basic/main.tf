
resource "aws_cloudwatch_log_group" "test" {
  name = "tf-acc-test-132"
}
