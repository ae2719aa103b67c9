# expect: upper
# at: main.tf:4
resource "aws_sns_topic" "t" {
  name = upper(["a", "b"])
}
