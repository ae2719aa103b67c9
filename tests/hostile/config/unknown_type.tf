# expect: aws_sns_topik
# at: main.tf:3
resource "aws_sns_topik" "t" {
  name = "alerts"
}
