
resource "aws_sns_topic" "test" {
  name = "tf-acc-test-147"
}

resource "aws_sqs_queue" "test" {
  name = "tf-acc-test-147"

  sqs_managed_sse_enabled = true
}

resource "aws_sns_topic_subscription" "test" {
  topic_arn = aws_sns_topic.test.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.test.arn
}
