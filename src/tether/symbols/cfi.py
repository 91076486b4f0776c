"""Call-stack unwinding from .eh_frame call-frame information (CFI): the
names of the modules below, under the one name the rest of tether imports.

For each frame we find the FDE covering the pc, run its CIE's and its own
CFA program up to the pc (DWARF 5 section 6.4 "Call Frame Information", with
the .eh_frame encoding of the Linux Standard Base), compute the CFA and read
the caller's rip, rsp and callee-saved registers from the stack. Where no
FDE covers the pc we fall back to the frame-pointer chain.

    cfi_errors        CfiError, UnknownValue
    cfi_encoding      LEB128, DW_EH_PE_* pointers, DWARF register numbers
    eh_frame          CIEs, FDEs and the FDE index of one file (EhFrame)
    cfa_program       the CFA program interpreter (Row, row_for)
    dwarf_expression  DWARF expressions (evaluate_expression)
    unwinder          Unwinder (walks the frames), modules_of
"""
from __future__ import annotations

from .cfa_program import Row, execute_cfa_program, row_for
from .cfi_encoding import (MASK64, PE_ABSPTR, PE_ALIGNED, PE_DATAREL, PE_FUNCREL, PE_OMIT,
                           PE_PCREL, PE_SDATA2, PE_SDATA4, PE_SDATA8, PE_SLEB128, PE_TEXTREL,
                           PE_UDATA2, PE_UDATA4, PE_UDATA8, PE_ULEB128, RBP, RIP, RSP,
                           read_encoded, read_sleb, read_uleb)
from .cfi_errors import CfiError, UnknownValue
from .dwarf_expression import evaluate_expression
from .eh_frame import Cie, EhFrame, Fde
from .unwinder import CALLER_SAVED, Unwinder, modules_of

__all__ = ["Unwinder", "EhFrame", "CfiError"]
