# expect: aws_sns_topic.missing
# at: main.tf:5
resource "aws_sns_topic_subscription" "s" {
  protocol  = "email"
  topic_arn = aws_sns_topic.missing.arn
  endpoint  = "ops@example.com"
}
