output "iot_data_endpoint" {
  description = "Where devices connect (MQTT over TLS, port 8883)"
  value       = data.aws_iot_endpoint.data.endpoint_address
}

output "table_name" {
  value = aws_dynamodb_table.readings.name
}

output "bucket_name" {
  value = aws_s3_bucket.archive.bucket
}

output "alerts_topic_arn" {
  value = aws_sns_topic.alerts.arn
}

output "thing_arns" {
  description = "node -> Thing ARN"
  value       = { for node, m in module.sensor_node : node => m.thing_arn }
}

output "device_private_keys" {
  description = "Per-node private keys for provisioning; shown only with `thingform output -json device_private_keys`"
  value       = { for node, m in module.sensor_node : node => m.private_key }
  sensitive   = true
}
