# The campus pipeline end to end, against the configured endpoint (moto in CI):
# deploy a two-node campus, publish readings through the deployed topic rules — the
# ingest Lambda runs locally, built with cargo-lambda, and writes to the real table —
# and check what landed. `thingform test stacks/campus` runs it and destroys it all.

variables {
  env = "staging"
  nodes = {
    "node-01" = { building = "library", location = "reading-room" }
    "node-02" = { building = "science", location = "server-room" }
  }
  ttl_days     = 30
  heat_alert_c = 38
}

run "deploy" {
  assert {
    condition     = aws_dynamodb_table.readings.ttl[0].enabled && aws_dynamodb_table.readings.ttl[0].attribute_name == "expires_at"
    error_message = "the readings table must expire rows through TTL on expires_at"
  }

  assert {
    condition     = length(output.thing_arns) == 2
    error_message = "one Thing per node: ${jsonencode(output.thing_arns)}"
  }
}

run "a_reading_is_enriched_stored_and_archived" {
  # Nothing to change: this run publishes through what "deploy" made.
  command = plan

  publish "reading" {
    topic    = "sensors/campus/node-01/environment"
    payload  = { temp = 22.5, humidity = 48, battery = 91 }
    clientid = "node-01"
  }

  # The row the Lambda wrote, by the key it answered with.
  data "aws_dynamodb_table_item" "row" {
    table_name = aws_dynamodb_table.readings.name
    key = jsonencode({
      device_id = { S = "node-01" }
      ts        = { S = publish.reading.lambda[0].response.ts }
    })
  }

  # The raw message the S3 action archived.
  data "aws_s3_object" "raw" {
    bucket = aws_s3_bucket.archive.bucket
    key    = publish.reading.s3[0].key
  }

  assert {
    condition     = publish.reading.lambda[0].response.status == "stored"
    error_message = "the ingest Lambda did not store the reading: ${jsonencode(publish.reading.lambda[0])}"
  }

  assert {
    condition     = jsondecode(data.aws_dynamodb_table_item.row.item).temp.N == "22.5" && can(jsondecode(data.aws_dynamodb_table_item.row.item).dew_point.N)
    error_message = "the stored row is not the enriched reading: ${data.aws_dynamodb_table_item.row.item}"
  }

  # The TTL: ttl_days after the rule's timestamp(), within a minute.
  assert {
    condition     = abs(tonumber(jsondecode(data.aws_dynamodb_table_item.row.item).expires_at.N) - floor(publish.reading.rules["aws_iot_topic_rule.ingest"].output.ts / 1000) - var.ttl_days * 86400) < 60
    error_message = "expires_at is not ${var.ttl_days} days after the reading: ${data.aws_dynamodb_table_item.row.item}"
  }

  assert {
    condition     = startswith(publish.reading.s3[0].key, "raw/node-01/") && jsondecode(data.aws_s3_object.raw.body).temp == 22.5
    error_message = "the raw archive does not hold the reading: ${publish.reading.s3[0].key}"
  }

  assert {
    condition     = !publish.reading.rules["aws_iot_topic_rule.heat_alert"].matched && length(publish.reading.sns) == 0
    error_message = "a 22.5 C reading must not raise the heat alert"
  }
}

run "a_hot_reading_raises_the_heat_alert" {
  command = plan

  publish "hot" {
    topic   = "sensors/campus/node-02/environment"
    payload = { temp = 41.5, humidity = 30, battery = 77 }
  }

  data "aws_dynamodb_table_item" "row" {
    table_name = aws_dynamodb_table.readings.name
    key = jsonencode({
      device_id = { S = "node-02" }
      ts        = { S = publish.hot.lambda[0].response.ts }
    })
  }

  assert {
    condition     = contains(publish.hot.matched, "aws_iot_topic_rule.heat_alert")
    error_message = "the heat alert rule did not match a 41.5 C reading"
  }

  assert {
    condition     = length(publish.hot.sns) == 1 && publish.hot.sns[0].status == "performed" && publish.hot.sns[0].target_arn == aws_sns_topic.alerts.arn
    error_message = "the heat alert was not published to the alerts topic: ${jsonencode(publish.hot.sns)}"
  }

  assert {
    condition     = jsondecode(publish.hot.sns[0].message).device_id == "node-02" && jsondecode(publish.hot.sns[0].message).temp == 41.5
    error_message = "the alert does not say which node is hot: ${publish.hot.sns[0].message}"
  }

  assert {
    condition     = can(jsondecode(data.aws_dynamodb_table_item.row.item).heat_index.N)
    error_message = "a hot reading's row carries its heat index: ${data.aws_dynamodb_table_item.row.item}"
  }
}

run "an_impossible_reading_is_rejected_but_archived" {
  command = plan

  publish "broken" {
    topic   = "sensors/campus/node-01/environment"
    payload = { temp = 120, humidity = 48 }
  }

  assert {
    condition     = publish.broken.lambda[0].response.status == "rejected"
    error_message = "a 120 C reading must be rejected: ${jsonencode(publish.broken.lambda[0].response)}"
  }

  # The Lambda's own log line, sent to its log group as Lambda would.
  assert {
    condition     = anytrue([for l in publish.broken.lambda[0].logs : strcontains(l, "reading rejected")]) && strcontains(publish.broken.lambda[0].log_delivery, "to /aws/lambda/staging-campus-ingest")
    error_message = "the rejection was not logged to the function's log group: ${jsonencode(publish.broken.lambda[0].log_delivery)}"
  }

  assert {
    condition     = publish.broken.s3[0].status == "performed" && length(publish.broken.errors) == 0
    error_message = "the raw archive keeps every message: ${jsonencode(publish.broken.actions)}"
  }
}
