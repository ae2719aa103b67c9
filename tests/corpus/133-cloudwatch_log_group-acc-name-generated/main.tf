
resource "aws_cloudwatch_log_group" "test" {}
