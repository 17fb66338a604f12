#include <iostream>
int main() { std::cout << "templet " << TEMPLET_VERSION << "\n"; }
