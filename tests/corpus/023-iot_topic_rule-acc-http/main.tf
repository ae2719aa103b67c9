
resource "aws_iot_topic_rule" "test" {
  name        = "tf_acc_test_023"
  enabled     = true
  sql         = "SELECT * FROM 'topic/test'"
  sql_version = "2015-10-08"

  http {
    url = "https://example.com/ingress"
  }
}
