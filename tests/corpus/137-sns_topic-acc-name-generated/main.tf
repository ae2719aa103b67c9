
resource "aws_sns_topic" "test" {}
