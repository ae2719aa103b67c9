# expect: count
# at: main.tf:5
resource "aws_sns_topic" "t" {
  count    = 2
  for_each = toset(["a"])
  name     = "x"
}
