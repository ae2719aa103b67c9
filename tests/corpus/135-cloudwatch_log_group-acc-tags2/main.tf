
resource "aws_cloudwatch_log_group" "test" {
  name = "tf-acc-test-135"

  tags = {
    "key1" = "value1"
    "key2" = "value2"
  }
}
