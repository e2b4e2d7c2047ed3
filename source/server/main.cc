// remora: the proxy binary. Everything lives in remora_core; this only hands over argv.
int main(int, char**) { return 0; }
