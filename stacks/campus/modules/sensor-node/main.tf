# One sensor node: its Thing, its own certificate (attached to the Thing and to the
# fleet's device policy), its membership of the fleet group and its shadow.

resource "aws_iot_thing" "this" {
  name            = var.name
  thing_type_name = var.thing_type_name
  attributes      = var.attributes
}

resource "aws_iot_thing_group_membership" "this" {
  thing_name       = aws_iot_thing.this.name
  thing_group_name = var.group_name
}

resource "aws_iot_certificate" "this" {
  active = true
}

resource "aws_iot_thing_principal_attachment" "this" {
  thing     = aws_iot_thing.this.name
  principal = aws_iot_certificate.this.arn
}

resource "aws_iot_policy_attachment" "this" {
  policy = var.policy_name
  target = aws_iot_certificate.this.arn
}

resource "aws_iot_thing_shadow" "this" {
  thing_name = aws_iot_thing.this.name
  desired    = jsonencode(var.desired)
}
