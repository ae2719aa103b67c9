# expect: protocol
# at: main.tf:3
resource "aws_sns_topic_subscription" "s" {
  topic_arn = "arn:aws:sns:eu-west-1:123456789012:t"
  endpoint  = "ops@example.com"
}
