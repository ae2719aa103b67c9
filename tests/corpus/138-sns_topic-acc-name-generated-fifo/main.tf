
resource "aws_sns_topic" "test" {
  fifo_topic = true
}
