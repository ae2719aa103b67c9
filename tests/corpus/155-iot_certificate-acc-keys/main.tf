
resource "aws_iot_certificate" "foo_cert" {
  active = true
}
