# OpenBao (Vault API) for docker-compose.airflow.yml, mounted in /openbao/config/.
# Data in the openbao-data volume, encrypted by OpenBao's barrier key; the server starts
# sealed and an operator unseals it (README, "Deployment"). The listener is reachable only
# on the compose network (the service publishes no port).
ui            = false
disable_mlock = true
api_addr      = "http://openbao:8200"

storage "file" {
  path = "/openbao/file"
}

listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}
