# expect: Cycle
# at: main.tf:4
locals {
  a = local.b
  b = local.c
  c = local.a
}
resource "aws_sns_topic" "t" {
  name = local.a
}
