//! Campus sensor ingest: validate a reading that an IoT topic rule forwards, enrich it
//! (device id from the topic, ISO-8601 time, TTL, dew point, heat index) and write it
//! to the readings table.
//!
//! The rule's SQL is `SELECT *, topic(3) AS device_id, timestamp() AS ts FROM
//! 'sensors/campus/+/environment'`, so an event looks like
//! `{"temp": 24.3, "humidity": 61, "battery": 87, "device_id": "node-12", "ts": 1764158400000}`.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Physical ranges of the campus sensors (SHT31-class temperature/humidity, Li-ion gauge).
pub const TEMP_RANGE_C: (f64, f64) = (-40.0, 85.0);
pub const HUMIDITY_RANGE: (f64, f64) = (0.0, 100.0);
pub const BATTERY_RANGE: (f64, f64) = (0.0, 100.0);

/// Why a reading was rejected; logged, never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection(pub String);

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub device_id: String,
    /// ISO-8601 UTC, millisecond precision: the table's sort key.
    pub ts: String,
    pub temp_c: f64,
    pub humidity: f64,
    pub battery: Option<f64>,
    pub dew_point_c: f64,
    /// Only above 27 °C, where the heat index is defined.
    pub heat_index_c: Option<f64>,
    /// Epoch seconds; DynamoDB TTL deletes the item after this.
    pub expires_at: i64,
}

fn number(
    event: &Value,
    key: &str,
    range: (f64, f64),
    required: bool,
) -> Result<Option<f64>, Rejection> {
    match event.get(key) {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(Rejection(format!("missing field `{key}`"))),
        Some(v) => {
            let n = v
                .as_f64()
                .ok_or_else(|| Rejection(format!("field `{key}` is not a number: {v}")))?;
            if !n.is_finite() || n < range.0 || n > range.1 {
                return Err(Rejection(format!(
                    "field `{key}` = {n} is outside the physical range {}..{}",
                    range.0, range.1
                )));
            }
            Ok(Some(n))
        }
    }
}

/// Dew point (°C) by the Magnus formula.
pub fn dew_point(temp_c: f64, humidity: f64) -> f64 {
    let (a, b) = (17.62, 243.12);
    let gamma = (a * temp_c) / (b + temp_c) + (humidity.max(0.01) / 100.0).ln();
    (b * gamma) / (a - gamma)
}

/// Heat index (°C) by NOAA's Rothfusz regression; defined from 27 °C.
pub fn heat_index(temp_c: f64, humidity: f64) -> Option<f64> {
    if temp_c < 27.0 {
        return None;
    }
    let t = temp_c * 9.0 / 5.0 + 32.0;
    let r = humidity;
    let hi = -42.379 + 2.049_015_23 * t + 10.143_331_27 * r
        - 0.224_755_41 * t * r
        - 0.006_837_83 * t * t
        - 0.054_817_17 * r * r
        + 0.001_228_74 * t * t * r
        + 0.000_852_82 * t * r * r
        - 0.000_001_99 * t * t * r * r;
    Some((hi - 32.0) * 5.0 / 9.0)
}

fn device_id(event: &Value) -> Result<String, Rejection> {
    let from_topic = event
        .get("topic")
        .and_then(Value::as_str)
        .and_then(|t| t.split('/').nth(2))
        .map(str::to_string);
    let id = event
        .get("device_id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or(from_topic);
    match id {
        Some(id)
            if !id.is_empty()
                && id.len() <= 128
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c)) =>
        {
            Ok(id)
        }
        Some(id) => Err(Rejection(format!("invalid device id {id:?}"))),
        None => Err(Rejection(
            "no device id: the rule must select topic(3) AS device_id".into(),
        )),
    }
}

fn timestamp(event: &Value, now: DateTime<Utc>) -> Result<DateTime<Utc>, Rejection> {
    match event.get("ts") {
        None | Some(Value::Null) => Ok(now),
        Some(Value::Number(n)) => {
            let ms = n
                .as_i64()
                .ok_or_else(|| Rejection(format!("timestamp {n} is not whole milliseconds")))?;
            Utc.timestamp_millis_opt(ms)
                .single()
                .ok_or_else(|| Rejection(format!("timestamp {ms} is out of range")))
        }
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| Rejection(format!("timestamp {s:?} is not ISO-8601: {e}"))),
        Some(other) => Err(Rejection(format!(
            "timestamp {other} is neither epoch milliseconds nor ISO-8601"
        ))),
    }
}

/// Validates and enriches one reading. `now` decides the TTL and a missing timestamp.
pub fn validate_and_enrich(
    event: &Value,
    now: DateTime<Utc>,
    ttl_days: i64,
) -> Result<Reading, Rejection> {
    if !event.is_object() {
        return Err(Rejection(format!("payload is not a JSON object: {event}")));
    }
    let device_id = device_id(event)?;
    let temp_c = number(event, "temp", TEMP_RANGE_C, true)?.unwrap_or_default();
    let humidity = number(event, "humidity", HUMIDITY_RANGE, true)?.unwrap_or_default();
    let battery = number(event, "battery", BATTERY_RANGE, false)?;
    let at = timestamp(event, now)?;
    if at > now + chrono::Duration::minutes(5) {
        return Err(Rejection(format!(
            "timestamp {} is in the future",
            at.to_rfc3339()
        )));
    }
    Ok(Reading {
        device_id,
        ts: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        temp_c,
        humidity,
        battery,
        dew_point_c: (dew_point(temp_c, humidity) * 100.0).round() / 100.0,
        heat_index_c: heat_index(temp_c, humidity).map(|h| (h * 100.0).round() / 100.0),
        expires_at: (now + chrono::Duration::days(ttl_days)).timestamp(),
    })
}

impl Reading {
    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        let n = |x: f64| AttributeValue::N(format!("{x}"));
        let mut item = HashMap::from([
            (
                "device_id".to_string(),
                AttributeValue::S(self.device_id.clone()),
            ),
            ("ts".to_string(), AttributeValue::S(self.ts.clone())),
            ("temp".to_string(), n(self.temp_c)),
            ("humidity".to_string(), n(self.humidity)),
            ("dew_point".to_string(), n(self.dew_point_c)),
            (
                "expires_at".to_string(),
                AttributeValue::N(self.expires_at.to_string()),
            ),
        ]);
        if let Some(b) = self.battery {
            item.insert("battery".into(), n(b));
        }
        if let Some(h) = self.heat_index_c {
            item.insert("heat_index".into(), n(h));
        }
        item
    }
}

/// Handles one event: stores a valid reading, logs and drops an invalid one (a retry
/// would not make it valid).
pub async fn handle(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    ttl_days: i64,
    event: Value,
) -> Result<Value, aws_sdk_dynamodb::Error> {
    match validate_and_enrich(&event, Utc::now(), ttl_days) {
        Ok(reading) => {
            client
                .put_item()
                .table_name(table)
                .set_item(Some(reading.to_item()))
                .send()
                .await?;
            Ok(json!({"status": "stored", "device_id": reading.device_id, "ts": reading.ts}))
        }
        Err(reason) => {
            println!(
                "{}",
                json!({"level": "warn", "message": "reading rejected", "reason": reason.0, "event": event})
            );
            Ok(json!({"status": "rejected", "reason": reason.0}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    #[test]
    fn enriches_a_valid_reading() {
        let ev = json!({"temp": 24.3, "humidity": 61, "battery": 87, "device_id": "node-12", "ts": 1764158400000i64});
        let r = validate_and_enrich(&ev, now(), 90).unwrap();
        assert_eq!(r.device_id, "node-12");
        assert_eq!(r.ts, "2025-11-26T12:00:00.000Z");
        assert_eq!(r.expires_at, now().timestamp() + 90 * 86400);
        assert!(
            (r.dew_point_c - 16.3).abs() < 0.05,
            "dew point {}",
            r.dew_point_c
        );
        assert_eq!(r.heat_index_c, None, "no heat index below 27 °C");
    }

    #[test]
    fn heat_index_above_27_degrees() {
        let hi = heat_index(32.0, 70.0).unwrap();
        assert!((hi - 40.5).abs() < 1.0, "heat index {hi}");
    }

    #[test]
    fn device_id_falls_back_to_the_topic() {
        let ev = json!({"temp": 20, "humidity": 50, "topic": "sensors/campus/node-03/environment"});
        assert_eq!(
            validate_and_enrich(&ev, now(), 90).unwrap().device_id,
            "node-03"
        );
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        let cases = [
            (json!("hello"), "not a JSON object"),
            (
                json!({"humidity": 50, "device_id": "n"}),
                "missing field `temp`",
            ),
            (
                json!({"temp": "hot", "humidity": 50, "device_id": "n"}),
                "not a number",
            ),
            (
                json!({"temp": 120, "humidity": 50, "device_id": "n"}),
                "outside the physical range",
            ),
            (
                json!({"temp": 20, "humidity": 150, "device_id": "n"}),
                "outside the physical range",
            ),
            (json!({"temp": 20, "humidity": 50}), "no device id"),
            (
                json!({"temp": 20, "humidity": 50, "device_id": "a b"}),
                "invalid device id",
            ),
            (
                json!({"temp": 20, "humidity": 50, "device_id": "n", "ts": "yesterday"}),
                "not ISO-8601",
            ),
            (
                json!({"temp": 20, "humidity": 50, "device_id": "n", "ts": 4102444800000i64}),
                "in the future",
            ),
        ];
        for (ev, why) in cases {
            let err = validate_and_enrich(&ev, now(), 90).unwrap_err();
            assert!(err.0.contains(why), "{ev}: expected {why:?}, got {err}");
        }
    }

    #[test]
    fn item_has_the_table_keys_and_ttl() {
        let ev = json!({"temp": 30, "humidity": 40, "device_id": "node-01"});
        let item = validate_and_enrich(&ev, now(), 90).unwrap().to_item();
        assert_eq!(item["device_id"], AttributeValue::S("node-01".into()));
        assert_eq!(
            item["ts"],
            AttributeValue::S("2026-11-26T12:00:00.000Z".into())
        );
        assert!(item.contains_key("heat_index"));
        assert_eq!(
            item["expires_at"],
            AttributeValue::N((now().timestamp() + 90 * 86400).to_string())
        );
    }
}
