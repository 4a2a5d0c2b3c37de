// GCC 13's <iostream> makes every user reference std::ios_base_library_init() (GLIBCXX_3.4.32) to pull
// the iostream initialiser into the link. Debian 12's libstdc++ (GCC 12) initialises iostreams itself and
// lacks the symbol, so this library supplies it; the static Init keeps the documented meaning.
#include <ios>

namespace std
{
    void ios_base_library_init()
    {
        static ios_base::Init initialiser;
    }
}
