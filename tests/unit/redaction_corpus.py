"""Fake secrets and lookalikes for the redaction tests.

Every token is built by concatenation so this file never looks like a leaked key.
``SECRETS`` rows are ``(kind, text, secret)``: ``secret`` must vanish from ``redact(text)`` and
``[REDACTED:kind]`` must appear. ``LOOKALIKES`` must come back unchanged.
"""

from __future__ import annotations

A = "A1b2C3d4E5"  # ten mixed characters
H = "0123456789abcdef"  # hex
B64 = "Zm9vYmFyYmF6" * 4  # base64 body

GHP = "ghp_" + "A1b2C3" * 6
GHO = "gho_" + "Z9y8X7" * 6
GH_PAT = "github_pat_" + "11ABCDEFG0" + "_" + "a1B2c3D4e5" * 6
GLPAT = "glpat-" + "xY3z" * 5
SLACK_BOT = "xoxb-" + "123456789012-1234567890123-" + "AbCdEf" * 4
SLACK_USER = "xoxp-" + "1234567890-" + "abcDEF123" * 3
SLACK_HOOK_PATH = "services/" + "T0000AAAA/B0000BBBB/" + "XyZ123" * 4
STRIPE_LIVE = "sk_" + "live_" + "4eC39HqLyjWDarjtT1" + "zdp7dc"
STRIPE_TEST = "rk_" + "test_" + "51HxYZ" * 4
STRIPE_HOOK = "whsec_" + "MfKQ9r8GKYqrTwjU" * 2
OPENAI_PROJ = "sk-" + "proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv" + "_-Wx1Yz4" * 3
OPENAI_LEGACY = "sk-" + "aB3dE6gH9j" * 2 + "T3BlbkFJ" + "kL2mN5pQ8r" * 2
ANTHROPIC = "sk-" + "ant-api03-" + "Xy7_Zw9-" * 10 + "AA"
GOOGLE_API = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"
GOCSPX = "GOCSPX-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4"
YA29 = "ya29." + "a0AfH6SM" * 5
NPM = "npm_" + "a1B2c3D4e5F6" * 3
PYPI = "pypi-" + "AgEIcHlwaS5vcmc" + "CJDk4NzQ1" * 8
HF = "hf_" + "aBcDeFgHiJ" * 3 + "kLmNo"
SENDGRID = "SG." + "ngeVfQFYQlKU0ufo8x5d1A" + "." + "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr"
TWILIO = "SK" + H * 2
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_ID2 = "ASIA" + "Y34FZKBOKMUTVV7A"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
AZURE = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq" + "/K1SZFPTOtr/KBHBeksoGMGw=="
)
JWT = (
    "eyJ"
    + "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    + ".eyJ"
    + "zdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    + "."
    + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + B64
RSA = (
    "-----BEGIN RSA "
    + "PRIVATE KEY-----\n"
    + PEM_BODY
    + "\n"
    + PEM_BODY
    + "\n-----END RSA PRIVATE KEY-----"
)
OPENSSH = (
    "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n" + PEM_BODY + "\n-----END OPENSSH PRIVATE KEY-----"
)
PLAIN_KEY = "-----BEGIN " + "PRIVATE KEY-----\\n" + PEM_BODY + "\\n-----END PRIVATE KEY-----"
PW = "hunter2" + "Xy9!"

SECRETS: list[tuple[str, str, str]] = [
    ("github-token", f"git remote set-url origin https://{GHP}@github.com/o/r", GHP),
    ("github-token", f"export GH_TOKEN={GHO}", GHO),
    ("github-token", f"token: {GH_PAT}", GH_PAT),
    ("github-token", f"Authorization: token {GHP}", GHP),
    ("github-token", f'{{"token": "{GHP}"}}', GHP),
    ("gitlab-token", f"GITLAB_TOKEN={GLPAT} glab mr list", GLPAT),
    ("gitlab-token", f"private-token: {GLPAT}", GLPAT),
    ("slack-token", f"SLACK_BOT_TOKEN={SLACK_BOT}", SLACK_BOT),
    ("slack-token", f"client = WebClient('{SLACK_USER}')", SLACK_USER),
    (
        "slack-webhook",
        f"curl -X POST https://hooks.slack.com/{SLACK_HOOK_PATH} -d x",
        SLACK_HOOK_PATH,
    ),
    ("stripe-key", f"stripe.api_key = '{STRIPE_LIVE}'", STRIPE_LIVE),
    ("stripe-key", f"STRIPE_KEY={STRIPE_TEST}", STRIPE_TEST),
    ("stripe-key", f"endpoint secret is {STRIPE_HOOK}", STRIPE_HOOK),
    ("openai-key", f"OPENAI_API_KEY={OPENAI_PROJ}", OPENAI_PROJ),
    ("openai-key", f'client = OpenAI(api_key="{OPENAI_LEGACY}")', OPENAI_LEGACY),
    ("openai-key", f"my key is {OPENAI_LEGACY}, please use it", OPENAI_LEGACY),
    ("anthropic-key", f"ANTHROPIC_API_KEY={ANTHROPIC}", ANTHROPIC),
    ("anthropic-key", f"x-api-key: {ANTHROPIC}", ANTHROPIC),
    ("anthropic-key", f'"{ANTHROPIC}"', ANTHROPIC),
    ("google-api-key", f"https://maps.googleapis.com/maps/api/js?key={GOOGLE_API}", GOOGLE_API),
    ("google-api-key", f"GOOGLE_API_KEY: {GOOGLE_API}", GOOGLE_API),
    ("google-oauth-secret", f'"client_secret": "{GOCSPX}"', GOCSPX),
    ("google-oauth-token", f"access token {YA29}", YA29),
    ("npm-token", f"//registry.npmjs.org/:_authToken={NPM}", NPM),
    ("npm-token", f"NPM_TOKEN={NPM} npm publish", NPM),
    ("npm-token", "//npm.example.com/:_authToken=" + "abcDEF123456ghi", "abcDEF123456ghi"),
    ("pypi-token", f"password = {PYPI}", PYPI),
    ("pypi-token", f"twine upload -u __token__ -p {PYPI} dist/*", PYPI),
    ("huggingface-token", f"huggingface-cli login --token {HF}", HF),
    ("huggingface-token", f"HF_TOKEN={HF}", HF),
    ("sendgrid-key", f"SENDGRID_API_KEY={SENDGRID}", SENDGRID),
    ("sendgrid-key", f"sg = SendGridAPIClient('{SENDGRID}')", SENDGRID),
    ("twilio-key", f"api_key_sid = {TWILIO}", TWILIO),
    ("aws-access-key", f"aws_access_key_id = {AWS_ID}", AWS_ID),
    ("aws-access-key", f"AWS_ACCESS_KEY_ID={AWS_ID2} aws s3 ls", AWS_ID2),
    ("aws-access-key", f"key {AWS_ID} in logs", AWS_ID),
    ("aws-secret-key", f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
    ("aws-secret-key", f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}", AWS_SECRET),
    ("aws-secret-key", f'"aws_secret_key": "{AWS_SECRET}"', AWS_SECRET),
    (
        "azure-storage-key",
        f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AZURE};EndpointSuffix=x",
        AZURE,
    ),
    ("jwt", f"Cookie: session={JWT}; Path=/", JWT),
    ("jwt", f"Authorization: Bearer {JWT}", JWT),
    ("jwt", f"the id_token was {JWT}.", JWT),
    ("private-key", f"key file:\n{RSA}\ndone", PEM_BODY),
    ("private-key", f"{OPENSSH}\n", PEM_BODY),
    ("private-key", f'{{"content": "{PLAIN_KEY}"}}', PEM_BODY),
    ("private-key", "-----BEGIN EC " + "PRIVATE KEY-----\n" + PEM_BODY + "\n(truncated)", PEM_BODY),
    ("url-credentials", f"postgres://app:{PW}@db:5432/x", PW),
    ("url-credentials", f"DATABASE_URL=mysql+pymysql://root:{PW}@127.0.0.1/app", PW),
    ("url-credentials", f"redis://:{PW}@cache:6379/0", PW),
    ("url-credentials", f"amqp://guest:{PW}@rabbit//", PW),
    ("url-credentials", f"https://deploy:{PW}@git.example.com/repo.git", PW),
    ("authorization", "Authorization: Bearer " + "abc123DEF456ghi789", "abc123DEF456ghi789"),
    ("authorization", "-H 'Authorization: Basic " + "dXNlcjpwYXNz" + "'", "dXNlcjpwYXNz"),
    ("authorization", '{"Authorization": "Bearer ' + "tok_9f8e7d6c5b4a" + '"}', "tok_9f8e7d6c5b4a"),
    ("authorization", "authorization: bearer " + "Zz9" * 8, "Zz9" * 8),
    (
        "authorization",
        "headers = {'Bearer " + "a1b2c3d4e5f6g7h8i9j0" + "'}",
        "a1b2c3d4e5f6g7h8i9j0",
    ),
    ("password", f"PASSWORD={PW}", PW),
    ("password", f"db_password: {PW}", PW),
    ("password", f'"password": "{PW}"', PW),
    ("password", f"DB_PASSWORD='{PW}' ./run.sh", PW),
    ("password", f"mysql -u root -p{PW} app", PW),
    ("password", f"mysqldump -uroot -p'{PW}' app > dump.sql", PW),
    ("password", f"psql --password={PW} -h db", PW),
    ("password", f"tool --password {PW} --verbose", PW),
    ("password", f"sshpass -p {PW} ssh user@host", PW),
    ("password", f"sshpass -p'{PW}' ssh user@host", PW),
    ("password", f"PGPASSWORD={PW} psql -h db -U app", PW),
    ("password", f"curl -u admin:{PW} https://api.example.com", PW),
    ("password", f"conn = connect(user='app', password='{PW}')", PW),
    ("password", f"MYSQL_ROOT_PASSWORD: {PW}", PW),
    ("password", f'\\"password\\": \\"{PW}\\"', PW),
    ("password", f"passphrase = '{PW}'", PW),
    ("password", f"smtp_pass={PW}", PW),
    ("password", "PASSWORD=supersecretvalue", "supersecretvalue"),
    (
        "secret",
        "SECRET_KEY = 'django-insecure-" + "x9!k2" * 4 + "'",
        "django-insecure-" + "x9!k2" * 4,
    ),
    ("secret", "client_secret=" + "Qw3rTy" * 4, "Qw3rTy" * 4),
    ("secret", '"api_key": "' + "abc123def456" + '"', "abc123def456"),
    ("secret", "export API_TOKEN=" + "t0k3n" * 5, "t0k3n" * 5),
    ("secret", "X-Api-Key: " + "9f8e7d6c5b4a" * 2, "9f8e7d6c5b4a" * 2),
    ("secret", "apiKey: '" + "live" + "9Z" * 8 + "'", "live" + "9Z" * 8),
    ("secret", "deploy --token " + "Tk" + "12ab" * 6, "Tk" + "12ab" * 6),
    ("secret", "JWT_SECRET=" + "s3cr3t" * 3, "s3cr3t" * 3),
    ("secret", "access_token = '" + "at" + "Z9" * 10 + "'", "at" + "Z9" * 10),
    ("secret", "private_key: " + "pk" + "7Q" * 12, "pk" + "7Q" * 12),
]

LOOKALIKES: list[str] = [
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 fixes it",
    "git checkout 9fceb02 && git log -1",
    "HEAD is now at a1b2c3d Add tests",
    "merge 0123456789abcdef0123456789abcdef01234567 into main",
    "id = 3f2b8c1e-9d4a-4e6b-8f1c-2a3b4c5d6e7f",
    '"uuid":"7c676cb6-c0f4-4952-a21f-18df6af360c7"',
    "image@sha256:" + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "password_hash = hash_password(raw)",
    "def reset_password_form(request):",
    "def check_password(password):",
    "token_count = 0",
    "max_tokens=1024",
    "tokenizer = TokenizerFast.from_pretrained(name)",
    "api_key = os.environ['API_KEY']",
    'key = os.environ["API_KEY"]',
    'password=os.environ.get("DB_PASSWORD")',
    "password: ${DB_PASSWORD}",
    "password = getpass()",
    "password=None",
    "def login(user: str, token: str) -> None:",
    "password=<your-password>",
    'password: ""',
    "password = ''",
    "connect(user=user, password=password)",
    "client = Client(token=self.token)",
    "secret = settings.SECRET_KEY",
    "token = request.headers.get('X-Token')",
    "API_KEY=$API_KEY ./deploy.sh",
    "token: Optional[str] = None",
    "password: string;",
    "secret: true",
    "token: 0",
    "password = '****'",
    '<div class="sk-notification sk-notification--info">',
    '<span class="sk-spinner sk-spinner-pulse"></span>',
    ".sk-fading-circle .sk-circle { width: 100%; }",
    "sk-chase-dot and sk-bounce",
    "sk-learn is installed",
    "task-123 and risk-free",
    "email me at jane.doe@example.com",
    "https://github.com/org/repo/blob/main/README.md",
    "postgres://localhost:5432/app",
    "see https://example.com:8443/path?x=1",
    "git@github.com:org/repo.git",
    "/home/marco/projects/spotter/.env.example",
    "C:\\Users\\me\\secrets\\readme.txt",
    "Use the --password flag to be prompted",
    "mysql -u root -p app",
    "mysql -p",
    "PGPASSWORD=$PGPASSWORD psql",
    "curl -u $USER:$PASS https://api.example.com",
    "the password: it is stored hashed",
    "Forgot password? Reset it here",
    "Bearer tokens expire after one hour",
    "Authorization: Bearer ${TOKEN}",
    "Authorization: Bearer $GITHUB_TOKEN",
    'headers["Authorization"] = f"Bearer {token}"',
    "password=[REDACTED:password]",
    "postgres://[REDACTED:url-credentials]@db:5432/x",
    "Authorization: Bearer [REDACTED:authorization]",
    "bypass=true",
    "pwd=/home/user",
    "cd $(pwd)",
    "secret_santa = load()",
    "token_type: bearer",
    "csrf_token = generate_csrf()",
    "if password == confirm:",
    "password != ''",
    "AKIAshort is not a key",
    "ghp_tooShort",
    "xoxb-",
    "hf_hub_download(repo_id=repo)",
    "eyJhbGciOi is half a header",
    "-----BEGIN PUBLIC KEY-----",
    'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):',
    "SECRET_KEY_FILE=/run/secrets/django",
    "password_file: /run/secrets/db_password",
    "{{ secrets.GITHUB_TOKEN }}",
    "token: ${{ secrets.NPM_TOKEN }}",
    "api_key: str = Field(...)",
    "ANTHROPIC_API_KEY is not set",
    "keys = {'a': 1}",
    "monkey=banana",
]
