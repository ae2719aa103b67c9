# expect: for_each
# at: main.tf:4
resource "aws_sns_topic" "t" {
  for_each = ["a", "b", "a"]
  name     = each.key
}
