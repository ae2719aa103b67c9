# expect: fifo_topic
# at: main.tf:5
resource "aws_sns_topic" "t" {
  name       = "alerts"
  fifo_topic = ["yes", "no"]
}
