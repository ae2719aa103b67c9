resource "aws_iot_certificate" "cert" {
  certificate_pem = file("/my/cert.pem")
  active          = true
}
