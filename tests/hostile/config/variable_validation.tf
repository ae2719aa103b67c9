# expect: env must be dev
# at: main.tf:7
variable "env" {
  type    = string
  default = "qa"
  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "env must be dev or prod."
  }
}
