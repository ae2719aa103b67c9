# expect: aws_sns_topic.t
# at: main.tf:6
resource "aws_sns_topic" "t" {
  name = "one"
}
resource "aws_sns_topic" "t" {
  name = "two"
}
