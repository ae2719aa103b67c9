
resource "aws_dynamodb_table" "test" {
  hash_key       = "TestTableHashKey"
  name           = "tf-acc-test-111"
  read_capacity  = 1
  write_capacity = 1

  attribute {
    name = "TestTableHashKey"
    type = "S"
  }

  ttl {
    attribute_name = false ? "TestTTL" : ""
    enabled        = false
  }
}
