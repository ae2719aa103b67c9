
resource "aws_dynamodb_table" "test" {
  name           = "tf-acc-test-102"
  read_capacity  = 1
  write_capacity = 1
  hash_key       = "tf-acc-test-102"

  attribute {
    name = "tf-acc-test-102"
    type = "S"
  }
}
