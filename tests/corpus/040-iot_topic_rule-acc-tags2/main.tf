
resource "aws_iot_topic_rule" "test" {
  name        = "tf_acc_test_040"
  enabled     = true
  sql         = "SELECT * FROM 'topic/test'"
  sql_version = "2015-10-08"

  tags = {
    "key1" = "value1"
    "key2" = "value2"
  }
}
