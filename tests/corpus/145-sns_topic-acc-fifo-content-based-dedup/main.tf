
resource "aws_sns_topic" "test" {
  name                        = "tf-acc-test-145.fifo"
  fifo_topic                  = true
  content_based_deduplication = true
}
