
resource "aws_sns_topic" "test" {
  name                  = "tf-acc-test-144.fifo"
  fifo_topic            = true
  fifo_throughput_scope = "Topic"
}
