/* The per-persona test patterns the board test draws in each guest's /dev/fb0 and looks for
 * in QEMU's screen dump (tools/check-screendump). Shared by fbpattern.c (guest side, plain C)
 * and the display tests (C++), so the pattern the checker is tested on is the one the guests
 * draw. Colours are 0x00RRGGBB.
 *
 *   personal: vertical bars FBPATTERN_CELL wide, green then blue
 *   secure:   a checkerboard of FBPATTERN_CELL squares, orange and black
 *   marker:   the cell at (FBPATTERN_MARKER_X, FBPATTERN_MARKER_Y), white (personal) or
 *             cyan (secure): shows where guest pixel (0,0) landed and that nothing is scaled
 */
#ifndef TWOFOLD_FBPATTERN_H
#define TWOFOLD_FBPATTERN_H

#include <stdint.h>

#define FBPATTERN_CELL 32u
#define FBPATTERN_MARKER_X 64u
#define FBPATTERN_MARKER_Y 64u

#define FBPATTERN_PERSONAL_A 0x0000C000u /* green */
#define FBPATTERN_PERSONAL_B 0x000000C0u /* blue */
#define FBPATTERN_SECURE_A 0x00FF8000u   /* orange */
#define FBPATTERN_SECURE_B 0x00000000u   /* black */
#define FBPATTERN_PERSONAL_MARKER 0x00FFFFFFu
#define FBPATTERN_SECURE_MARKER 0x0000FFFFu

enum fbpattern_persona { FBPATTERN_PERSONAL = 0, FBPATTERN_SECURE = 1 };

static inline uint32_t fbpattern_pixel(enum fbpattern_persona persona, uint32_t x, uint32_t y) {
    const int in_marker = x >= FBPATTERN_MARKER_X && x < FBPATTERN_MARKER_X + FBPATTERN_CELL &&
                          y >= FBPATTERN_MARKER_Y && y < FBPATTERN_MARKER_Y + FBPATTERN_CELL;
    if (persona == FBPATTERN_PERSONAL) {
        if (in_marker) return FBPATTERN_PERSONAL_MARKER;
        return ((x / FBPATTERN_CELL) % 2u == 0u) ? FBPATTERN_PERSONAL_A : FBPATTERN_PERSONAL_B;
    }
    if (in_marker) return FBPATTERN_SECURE_MARKER;
    return (((x / FBPATTERN_CELL) + (y / FBPATTERN_CELL)) % 2u == 0u) ? FBPATTERN_SECURE_A : FBPATTERN_SECURE_B;
}

#endif
