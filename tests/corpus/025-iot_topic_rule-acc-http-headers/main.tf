
resource "aws_iot_topic_rule" "test" {
  name        = "tf_acc_test_025"
  enabled     = true
  sql         = "SELECT * FROM 'topic/test'"
  sql_version = "2015-10-08"

  http {
    url = "https://example.com/ingress"

    http_header {
      key   = "X-Header-1"
      value = "v1"
    }

    http_header {
      key   = "X-Header-2"
      value = "v2"
    }
  }
}
