resource "aws_iot_certificate" "cert" {
  active = true
}
