
resource "aws_iot_topic_rule" "test" {
  name        = "tf_acc_test_039"
  enabled     = true
  sql         = "SELECT * FROM 'topic/test'"
  sql_version = "2015-10-08"
}
