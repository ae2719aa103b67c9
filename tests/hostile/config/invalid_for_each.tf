# expect: for_each
# at: main.tf:4
resource "aws_sns_topic" "t" {
  for_each = 3
  name     = each.key
}
