output "thing_name" {
  value = aws_iot_thing.this.name
}

output "thing_arn" {
  value = aws_iot_thing.this.arn
}

output "certificate_arn" {
  value = aws_iot_certificate.this.arn
}

output "private_key" {
  value     = aws_iot_certificate.this.private_key
  sensitive = true
}
