
resource "aws_sns_topic" "test" {
  name = "tf-acc-test-146"
}

resource "aws_sns_topic_subscription" "test" {
  topic_arn = aws_sns_topic.test.arn
  protocol  = "email"
  endpoint  = "no-reply@hashicorp.com"
}
