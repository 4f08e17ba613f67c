#!/bin/sh
# mkpki.sh DIR — make a throwaway test PKI in DIR with the openssl command.
# Nothing here is ever committed: tests call this at run time into a temp dir.
#
#   ca.pem/ca.key            root CA (RSA 3072)
#   int.pem/int.key          intermediate CA, signed by the root
#   chain.pem                int.pem (what a signer ships with its leaf)
#   rsa.key/rsa.pem          RSA-2048 leaf (digitalSignature), signed by int
#   rsa-enc.key              rsa.key encrypted with $PKI_PASS (AES-256)
#   rsa.p12, ec.p12          PKCS#12 (key + leaf + int), password $PKI_PASS
#   rsa-full.pem             rsa.key then rsa.pem then int.pem (one PEM file)
#   rsa-chain.pem            rsa.pem then int.pem (also ec-, revoked-, expired-chain)
#   ec.key/ec.pem            ECDSA P-256 leaf
#   ec384-full.pem, ec521-full.pem   P-384 / P-521 key, leaf and int in one PEM
#   revoked.key/revoked.pem  RSA-2048 leaf, revoked in crl.pem
#   expired.key/expired.pem  RSA-2048 leaf valid 2020-01-01..2021-01-01
#   crl.pem                  CRLs of the root and the intermediate
#   rsa1024.key/rsa1024.pem  a leaf with a 1024-bit key (must be refused)
#   k1.key/k1.pem            EC secp256k1 leaf (curve must be refused)
#   other-ca.pem, other.key/other.pem   an unrelated CA and a leaf under it
#   hmac.bin                 32 random bytes (for the HMAC refusal test)
set -eu
D=${1:?usage: mkpki.sh DIR}
PKI_PASS=${PKI_PASS:-test-pass}
mkdir -p "$D"
cd "$D"
exec 3>&2 2>mkpki.log

days=3650

# ca_conf NAME: a minimal `openssl ca` set-up in ./NAME.db
ca_conf() {
	mkdir -p "$1.db"
	: >"$1.db/index.txt"
	echo 1000 >"$1.db/serial"
	echo 1000 >"$1.db/crlnumber"
	cat >"$1.cnf" <<EOF
[ ca ]
default_ca = this
[ this ]
dir = $1.db
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
certificate = $1.pem
private_key = $1.key
default_md = sha256
default_days = $days
default_crl_days = $days
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
organizationName = optional
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

# root NAME CN: a self-signed CA valid from 2019 (so that --at in the past
# can be tested with the expired leaf)
root() {
	ca_conf "$1"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$1.key"
	openssl req -new -key "$1.key" -out "$1.csr" -subj "/O=secmx test/CN=$2"
	openssl ca -batch -selfsign -config "$1.cnf" -keyfile "$1.key" -extensions v3_ca \
		-in "$1.csr" -out "$1.pem" -notext -startdate 20190101000000Z \
		-enddate 20361231000000Z
}

# issue CA NAME CN EXT KEYSPEC [startdate enddate]
issue() {
	ca=$1 name=$2 cn=$3 ext=$4 spec=$5
	case $spec in
	rsa:*) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:${spec#rsa:} -out "$name.key" ;;
	ec:*) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:${spec#ec:} -out "$name.key" ;;
	esac
	openssl req -new -key "$name.key" -out "$name.csr" -subj "/O=secmx test/CN=$cn"
	if [ $# -ge 7 ]; then
		openssl ca -batch -config "$ca.cnf" -extensions "$ext" -in "$name.csr" \
			-out "$name.pem" -notext -startdate "$6" -enddate "$7"
	else
		openssl ca -batch -config "$ca.cnf" -extensions "$ext" -in "$name.csr" \
			-out "$name.pem" -notext
	fi
}

root ca "secmx Test Root CA"
issue ca int "secmx Test Intermediate CA" v3_ca rsa:3072 20190101000000Z 20361231000000Z
ca_conf int
cp int.pem chain.pem
issue int rsa "Signer RSA" v3_leaf rsa:2048
issue int ec "Signer EC" v3_leaf ec:P-256
issue int ec384 "Signer EC384" v3_leaf ec:P-384
issue int ec521 "Signer EC521" v3_leaf ec:P-521
issue int revoked "Signer Revoked" v3_leaf rsa:2048
issue int expired "Signer Expired" v3_leaf rsa:2048 20200101000000Z 20210101000000Z
issue int rsa1024 "Signer Weak" v3_leaf rsa:1024
issue int k1 "Signer K1" v3_leaf ec:secp256k1
openssl ca -batch -config int.cnf -revoke revoked.pem -crl_reason keyCompromise
openssl ca -batch -config int.cnf -gencrl -out int.crl
openssl ca -batch -config ca.cnf -gencrl -out ca.crl
cat ca.crl int.crl >crl.pem

root other-ca "Untrusted Root CA"
issue other-ca other "Signer Untrusted" v3_leaf rsa:2048

openssl pkey -in rsa.key -aes256 -passout "pass:$PKI_PASS" -out rsa-enc.key
cat rsa.key rsa.pem int.pem >rsa-full.pem
cat rsa.pem int.pem >rsa-chain.pem
cat ec.pem int.pem >ec-chain.pem
cat ec384.key ec384.pem int.pem >ec384-full.pem
cat ec521.key ec521.pem int.pem >ec521-full.pem
cat revoked.pem int.pem >revoked-chain.pem
cat expired.pem int.pem >expired-chain.pem
openssl pkcs12 -export -inkey rsa.key -in rsa.pem -certfile int.pem -passout "pass:$PKI_PASS" \
	-out rsa.p12
openssl pkcs12 -export -inkey ec.key -in ec.pem -certfile int.pem -passout "pass:$PKI_PASS" \
	-out ec.p12
openssl rand -out hmac.bin 32
exec 2>&3
echo "mkpki: test PKI in $D"
